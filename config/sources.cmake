list(APPEND SIPCDR_SOURCES
  ${CMAKE_SOURCE_DIR}/config/config.c
)
