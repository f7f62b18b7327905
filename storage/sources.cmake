list(APPEND SIPCDR_SOURCES
  ${CMAKE_SOURCE_DIR}/storage/record.c
  ${CMAKE_SOURCE_DIR}/storage/record_queue.c
  ${CMAKE_SOURCE_DIR}/storage/csv_writer.c
  ${CMAKE_SOURCE_DIR}/storage/record_codec.c
  ${CMAKE_SOURCE_DIR}/storage/spool.c
  ${CMAKE_SOURCE_DIR}/storage/stream.c
  ${CMAKE_SOURCE_DIR}/storage/pg_copy.c
  ${CMAKE_SOURCE_DIR}/storage/pg_retry.c
  ${CMAKE_SOURCE_DIR}/storage/pg_writer.c
  ${CMAKE_SOURCE_DIR}/storage/pg_migrate.c
)
