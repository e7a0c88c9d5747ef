# yieldhost_add_plugin(<target> SOURCES ... [MIGRATIONS <dir>] [PLUGIN_ID <id>] [OUTPUT_DIRECTORY <dir>])
# Builds a Yieldhost plugin module: a Qt plugin linked to the SDK, C++20, hidden visibility,
# with plugin.json next to the sources (Q_PLUGIN_METADATA FILE "plugin.json"). MIGRATIONS
# compiles <dir>/NNNN_name.sql into the plugin as :/yieldhost/migrations/<PLUGIN_ID>/, where the
# host finds and applies them.
function(yieldhost_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;MIGRATIONS;PLUGIN_ID" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES AUTOMOC ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON PREFIX "")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  target_compile_features(${target} PRIVATE cxx_std_20)
  if(ARG_MIGRATIONS)
    if(NOT ARG_PLUGIN_ID)
      message(FATAL_ERROR "yieldhost_add_plugin(${target}): MIGRATIONS needs PLUGIN_ID")
    endif()
    get_filename_component(migrations_dir ${ARG_MIGRATIONS} ABSOLUTE)
    file(GLOB migration_files CONFIGURE_DEPENDS ${migrations_dir}/*.sql)
    qt_add_resources(${target} "${target}_migrations" PREFIX "/yieldhost/migrations/${ARG_PLUGIN_ID}"
      BASE ${migrations_dir} FILES ${migration_files})
  endif()
  if(TARGET yieldhost-sdk)
    target_link_libraries(${target} PRIVATE yieldhost-sdk)
  else()
    target_link_libraries(${target} PRIVATE Yieldhost::Sdk)
  endif()
endfunction()
