# Warnings are errors under g++ and clang for vmm's own targets (not for fetched deps).
function(vmm_set_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${VMM_WARNINGS_AS_ERRORS}>:/WX>)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
      -Wno-sign-conversion $<$<BOOL:${VMM_WARNINGS_AS_ERRORS}>:-Werror>)
    # g++ 12 at -O3 reports false -Wrestrict overlaps inside libstdc++'s string operator+ and
    # char_traits::copy (GCC bug 105651, fixed in 13), so a Release build would fail under
    # -Werror on correct code.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
      target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    # A unity build (CMAKE_UNITY_BUILD, as CI's) #includes each source file into a batch, and g++
    # then reports a class using a type from its own file's anonymous namespace as if a header
    # shared it: -Wsubobject-linkage exempts only the main file.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_UNITY_BUILD)
      target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
    endif()
  endif()
endfunction()
