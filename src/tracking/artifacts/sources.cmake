# The artifact store (one interface, an implementation per storage kind in a
# subfolder) and MLflow's artifact proxy routes. Included by
# src/tracking/CMakeLists.txt into the mlforge_tracking library.
target_sources(mlforge_tracking PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/artifact_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/local/local_artifact_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/http/http_artifact_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/artifact_repository.cc
  ${CMAKE_CURRENT_LIST_DIR}/artifact_handler.cc)

mlforge_test(mlforge_tracking_artifacts_test
  ${CMAKE_CURRENT_LIST_DIR}/artifact_store_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/local/local_artifact_store_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/artifact_handler_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/artifact_repository_test.cc
  LIBS mlforge_tracking)
