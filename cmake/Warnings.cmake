# Warnings.cmake - the project's warning set; -Werror behind CLCE_WERROR (CI turns it on).
function(clce_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wcast-qual
    -Wwrite-strings -Wundef -Wvla -Wformat=2)
  if(CLCE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
