# Warnings are errors under g++ and clang for vmm's own targets (not for fetched deps).
function(vmm_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${VMM_WARNINGS_AS_ERRORS}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
      -Wno-sign-conversion $<$<BOOL:${VMM_WARNINGS_AS_ERRORS}>:-Werror>)
  endif()
endfunction()
