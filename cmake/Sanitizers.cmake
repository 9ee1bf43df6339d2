# Sanitizers.cmake - CLCE_SANITIZE=address,undefined (or thread) adds the flags to a target.
function(clce_set_sanitizers target)
  if(CLCE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${CLCE_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=${CLCE_SANITIZE})
  endif()
endfunction()
