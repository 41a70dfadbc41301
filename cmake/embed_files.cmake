# octohub_embed_files(TARGET name NAMESPACE ns FUNCTION fn BASE dir FILES f...)
# Builds a static library whose one function returns every file as {relative path, bytes},
# so the binary carries its migrations and web assets and needs nothing beside it at run time.
function(octohub_embed_files)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;FUNCTION;BASE" "FILES" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${E_TARGET}_embedded.cpp")
  # A ;-list would become several command arguments: pass it |-joined.
  string(REPLACE ";" "|" joined "${E_FILES}")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${E_NAMESPACE} -DFUNCTION=${E_FUNCTION}
            -DBASE=${E_BASE} "-DFILES=${joined}" -P "${PROJECT_SOURCE_DIR}/cmake/embed_generate.cmake"
    DEPENDS ${E_FILES} "${PROJECT_SOURCE_DIR}/cmake/embed_generate.cmake"
    COMMENT "Embedding ${E_TARGET}"
    VERBATIM)
  add_library(${E_TARGET} STATIC "${out}")
  target_include_directories(${E_TARGET} PUBLIC "${PROJECT_SOURCE_DIR}/core/include")
endfunction()
