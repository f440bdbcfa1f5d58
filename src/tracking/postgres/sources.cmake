# The PostgreSQL tracking store (included by ../CMakeLists.txt into the
# mlforge_tracking library) and its tests, which run against a real
# PostgreSQL server that the "postgres" CTest fixture starts and stops
# (scripts/postgres-test-server).
target_sources(mlforge_tracking PRIVATE
  postgres/postgres_uri.cc
  postgres/postgres_connection.cc
  postgres/postgres_store.cc
)
target_link_libraries(mlforge_tracking PRIVATE PostgreSQL::PostgreSQL)

set(MLFORGE_POSTGRES_FIXTURE_DIR ${CMAKE_BINARY_DIR}/postgres-fixture)
add_test(NAME postgres_server_start
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/postgres-test-server start ${MLFORGE_POSTGRES_FIXTURE_DIR})
add_test(NAME postgres_server_stop
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/postgres-test-server stop ${MLFORGE_POSTGRES_FIXTURE_DIR})
set_tests_properties(postgres_server_start PROPERTIES FIXTURES_SETUP postgres)
set_tests_properties(postgres_server_stop PROPERTIES FIXTURES_CLEANUP postgres)

mlforge_test(mlforge_tracking_postgres_test
  store_conformance_test.cc
  postgres/postgres_conformance_test.cc
  postgres/postgres_store_test.cc
  LIBS mlforge_tracking PostgreSQL::PostgreSQL
  FIXTURES postgres)
