# EmbedCL.cmake - turns kernel sources into one C file of NUL-terminated byte arrays (C has no
# raw strings), with each file's SHA-256, regenerated whenever a source changes.
set(CLCE_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_kernels.cmake)

function(clce_embed_kernels)
  cmake_parse_arguments(E "" "OUTPUT" "FILES" ${ARGN})
  set(abs)
  foreach(f ${E_FILES})
    list(APPEND abs ${CMAKE_CURRENT_SOURCE_DIR}/${f})
  endforeach()
  string(REPLACE ";" "|" joined "${abs}")
  add_custom_command(
    OUTPUT ${E_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${E_OUTPUT} "-DFILES=${joined}" -P ${CLCE_EMBED_SCRIPT}
    DEPENDS ${abs} ${CLCE_EMBED_SCRIPT}
    COMMENT "Embedding OpenCL kernel sources"
    VERBATIM)
endfunction()
