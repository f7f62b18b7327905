# fixture.cmake - the throwaway PostgreSQL that tests share (see README.md).
#
# ctest fixture "pg": test pg.start (FIXTURES_SETUP) runs `pgtmp.sh start`,
# pg.stop (FIXTURES_CLEANUP) runs `pgtmp.sh stop`; the cluster lives in
# ${CMAKE_BINARY_DIR}/pgtmp. A test that needs it calls
#
#   sipcdr_pg_test(<test name>)
#
# in the directory that added the test (CMake sets test properties per
# directory), after any set_tests_properties(... ENVIRONMENT ...) of its own,
# which would replace the list. It adds FIXTURES_REQUIRED pg and the
# environment SIPCDR_PGTMP_DIR (where the cluster is) and SIPCDR_PGTMP (the
# script). The test then runs `sh "$SIPCDR_PGTMP" newdb <its own name>` for a
# fresh database and its conninfo, so tests never share one and need no
# RESOURCE_LOCK.
#
# Function definitions are global, but only from the point this file is
# included: a directory added before tests/pg includes this file itself.
include_guard(GLOBAL)

set(SIPCDR_PGTMP_SH "${CMAKE_CURRENT_LIST_DIR}/pgtmp.sh" CACHE INTERNAL "throwaway PostgreSQL script")
set(SIPCDR_PGTMP_DIR "${CMAKE_BINARY_DIR}/pgtmp" CACHE INTERNAL "throwaway PostgreSQL state")

function(sipcdr_pg_test NAME)
  set_property(TEST ${NAME} APPEND PROPERTY FIXTURES_REQUIRED pg)
  set_property(TEST ${NAME} APPEND PROPERTY ENVIRONMENT
               "SIPCDR_PGTMP_DIR=${SIPCDR_PGTMP_DIR}" "SIPCDR_PGTMP=${SIPCDR_PGTMP_SH}")
endfunction()
