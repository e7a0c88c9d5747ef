# yieldhost_add_plugin(<target> SOURCES ... [MIGRATIONS <dir>] [PLUGIN_ID <id>] [OUTPUT_DIRECTORY <dir>])
# Builds a Yieldhost plugin module: a Qt plugin linked to the SDK, C++20, hidden visibility,
# with plugin.json next to the sources (Q_PLUGIN_METADATA FILE "plugin.json"). MIGRATIONS
# compiles <dir>/NNNN_name.sql into the plugin as :/yieldhost/migrations/<id>/, where the host
# finds and applies them.
#
# The id is read from plugin.json at configure time (plugin.json among SOURCES, else next to the
# first source that has one), because the host looks migrations up under the id it reads from
# the same file: an id given twice that disagrees would make it skip them without a word.
# PLUGIN_ID is optional; when given it must equal plugin.json's "id" or configuring stops.
function(yieldhost_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;MIGRATIONS;PLUGIN_ID" "SOURCES" ${ARGN})
  _yieldhost_plugin_id(${target} plugin_id "${ARG_PLUGIN_ID}" ${ARG_SOURCES})

  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES AUTOMOC ON CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON PREFIX "")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  target_compile_features(${target} PRIVATE cxx_std_20)
  if(ARG_MIGRATIONS)
    if(NOT plugin_id)
      message(FATAL_ERROR "yieldhost_add_plugin(${target}): MIGRATIONS needs the plugin's id, and no plugin.json "
                          "was found among or next to its SOURCES (or give PLUGIN_ID)")
    endif()
    get_filename_component(migrations_dir ${ARG_MIGRATIONS} ABSOLUTE)
    file(GLOB migration_files CONFIGURE_DEPENDS ${migrations_dir}/*.sql)
    qt_add_resources(${target} "${target}_migrations" PREFIX "/yieldhost/migrations/${plugin_id}"
      BASE ${migrations_dir} FILES ${migration_files})
  endif()
  if(TARGET yieldhost-sdk)
    target_link_libraries(${target} PRIVATE yieldhost-sdk)
  else()
    target_link_libraries(${target} PRIVATE Yieldhost::Sdk)
  endif()
endfunction()

# Sets <out> to the "id" of the plugin.json among (or next to) the sources, checked against
# `given` (PLUGIN_ID); empty when there is no plugin.json and no PLUGIN_ID.
function(_yieldhost_plugin_id target out given)
  set(metadata "")
  foreach(source IN LISTS ARGN)
    get_filename_component(source ${source} ABSOLUTE)
    get_filename_component(name ${source} NAME)
    if(name STREQUAL "plugin.json")
      set(metadata ${source})
      break()
    endif()
  endforeach()
  if(NOT metadata)
    foreach(source IN LISTS ARGN)
      get_filename_component(source ${source} ABSOLUTE)
      get_filename_component(dir ${source} DIRECTORY)
      if(EXISTS ${dir}/plugin.json)
        set(metadata ${dir}/plugin.json)
        break()
      endif()
    endforeach()
  endif()
  if(NOT metadata)
    set(${out} "${given}" PARENT_SCOPE)
    return()
  endif()

  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${metadata}) # an edited id reconfigures
  file(READ ${metadata} json)
  string(JSON id ERROR_VARIABLE json_error GET "${json}" id)
  if(json_error OR id STREQUAL "")
    message(FATAL_ERROR "yieldhost_add_plugin(${target}): ${metadata} has no \"id\" (${json_error})")
  endif()
  if(given AND NOT given STREQUAL id)
    message(FATAL_ERROR "yieldhost_add_plugin(${target}): PLUGIN_ID \"${given}\" differs from the id \"${id}\" "
                        "in ${metadata}; the host would look for the migrations under \"${id}\". "
                        "Drop PLUGIN_ID (the id is read from plugin.json) or make the two agree.")
  endif()
  set(${out} ${id} PARENT_SCOPE)
endfunction()
