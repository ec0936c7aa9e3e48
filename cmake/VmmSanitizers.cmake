# VMM_SANITIZE=address,undefined instruments everything built here, tests included.
if(VMM_SANITIZE)
  if(MSVC)
    message(FATAL_ERROR "VMM_SANITIZE is for g++ and clang")
  endif()
  add_compile_options(-fsanitize=${VMM_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${VMM_SANITIZE})
endif()
