# Helpers shared by every test directory.

# yieldhost_add_qtest(<name> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s])
function(yieldhost_add_qtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test yieldhost-test-support ${ARG_LIBS})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
    ENVIRONMENT "YIELDHOST_BINARY=$<TARGET_FILE:yieldhost>;YIELDHOST_TEST_PLUGINS=${CMAKE_BINARY_DIR}/tests/plugins;YIELDHOST_FIXTURE_PLUGINS=${CMAKE_BINARY_DIR}/tests/fixtures/plugins;QT_QPA_PLATFORM=offscreen")
endfunction()

# One test per domain plugin: the real plugin set loads and this plugin runs with its metadata.
function(yieldhost_add_plugin_test id)
  yieldhost_add_qtest(tst_plugin_${id}
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tests/tst_${id}plugin.cpp
    LIBS yieldhost-core LABELS plugin)
  target_compile_definitions(tst_plugin_${id} PRIVATE YIELDHOST_PLUGIN_DIR="${YIELDHOST_PLUGIN_OUTPUT_DIR}")
  add_dependencies(tst_plugin_${id} yieldhost-users yieldhost-integrations yieldhost-wallets yieldhost-investments yieldhost-analytics yieldhost-notifications)
endfunction()

# A plugin's behaviour tests, kept with the plugin in plugins/<id>/tests/tst_<id>.cpp: the real
# host binary with the real plugin set, over loopback.
function(yieldhost_add_plugin_e2e_test id)
  yieldhost_add_qtest(tst_${id} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tests/tst_${id}.cpp LABELS e2e ${ARGN})
  add_dependencies(tst_${id} yieldhost yieldhost-testkit yieldhost-users yieldhost-integrations yieldhost-wallets
    yieldhost-investments yieldhost-analytics yieldhost-notifications)
endfunction()
