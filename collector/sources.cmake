list(APPEND SIPCDR_SOURCES
  ${CMAKE_SOURCE_DIR}/collector/packet.c
  ${CMAKE_SOURCE_DIR}/collector/frame.c
  ${CMAKE_SOURCE_DIR}/collector/frame_ipdefrag.c
  ${CMAKE_SOURCE_DIR}/collector/frame_hep.c
  ${CMAKE_SOURCE_DIR}/collector/frame_tcp.c
  ${CMAKE_SOURCE_DIR}/collector/capture_file.c
  ${CMAKE_SOURCE_DIR}/collector/capture_netmon.c
  ${CMAKE_SOURCE_DIR}/collector/pipeline.c
  ${CMAKE_SOURCE_DIR}/collector/cmd_read.c
)
