list(APPEND SIPCDR_SOURCES
  ${CMAKE_SOURCE_DIR}/common/sv.c
  ${CMAKE_SOURCE_DIR}/common/log.c
  ${CMAKE_SOURCE_DIR}/common/hash.c
  ${CMAKE_SOURCE_DIR}/common/e164.c
)
