# `cmake --install` lays out a relocatable package: headers, the library, exported targets
# (vmm::vmm), vmmConfig.cmake and vmmConfigVersion.cmake, and the codesign helper for macOS apps.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VMM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/vmm")

install(TARGETS vmm EXPORT vmmTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/vmm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/include/vmm/version.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vmm)
install(EXPORT vmmTargets NAMESPACE vmm:: DESTINATION ${VMM_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/vmmConfig.cmake.in
  "${PROJECT_BINARY_DIR}/vmmConfig.cmake"
  INSTALL_DESTINATION ${VMM_INSTALL_CMAKEDIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/vmmConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
set(_vmm_config_files "${PROJECT_BINARY_DIR}/vmmConfig.cmake"
  "${PROJECT_BINARY_DIR}/vmmConfigVersion.cmake")
foreach(_extra vmm_codesign.cmake vmm.entitlements.in)
  if(EXISTS "${PROJECT_SOURCE_DIR}/cmake/${_extra}")
    list(APPEND _vmm_config_files "${PROJECT_SOURCE_DIR}/cmake/${_extra}")
  endif()
endforeach()
install(FILES ${_vmm_config_files} DESTINATION ${VMM_INSTALL_CMAKEDIR})
