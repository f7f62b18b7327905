list(APPEND SIPCDR_SOURCES
  ${CMAKE_SOURCE_DIR}/parser/privacy.c
  ${CMAKE_SOURCE_DIR}/parser/sip_scan.c
  ${CMAKE_SOURCE_DIR}/parser/sip_uri.c
  ${CMAKE_SOURCE_DIR}/parser/sesstab.c
  ${CMAKE_SOURCE_DIR}/parser/dialog.c
  ${CMAKE_SOURCE_DIR}/parser/sms.c
)
