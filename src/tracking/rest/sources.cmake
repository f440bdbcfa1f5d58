# tracking/rest: MLflow's tracking REST API over the Store (joins the
# mlforge_tracking library; included by ../CMakeLists.txt).
target_sources(mlforge_tracking PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/mlflow_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_fields.cc
  ${CMAKE_CURRENT_LIST_DIR}/request_fields.cc
  ${CMAKE_CURRENT_LIST_DIR}/fast_log_batch.cc
  ${CMAKE_CURRENT_LIST_DIR}/mlflow_handler.cc
  ${CMAKE_CURRENT_LIST_DIR}/rest_transport.cc
  ${CMAKE_CURRENT_LIST_DIR}/rest_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/credentials.cc
)

mlforge_test(mlforge_tracking_rest_test
  ${CMAKE_CURRENT_LIST_DIR}/mlflow_json_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/request_fields_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/fast_log_batch_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/mlflow_handler_test.cc
  # The Store conformance suite, run here on the REST client store (which
  # registers itself as a backend in rest_store_test.cc).
  ${CMAKE_CURRENT_LIST_DIR}/../store_conformance_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/rest_store_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/rest_transport_test.cc
  LIBS mlforge_tracking)
