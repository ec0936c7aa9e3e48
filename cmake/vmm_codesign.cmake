# vmm_codesign(<target> [ENTITLEMENTS <plist>] [NETWORKING])
#
# A process that runs virtual machines with Virtualization.framework must be signed with the
# com.apple.security.virtualization entitlement, or every configuration fails validation. This
# adds a POST_BUILD step signing <target> (ad hoc unless VMM_CODESIGN_IDENTITY says otherwise)
# with a generated entitlements plist, or with the caller's own plist given as ENTITLEMENTS.
# NETWORKING adds com.apple.vm.networking (bridged networks; a restricted entitlement that needs
# a provisioning profile, or running as root). Off Apple platforms it does nothing.
#
# Installed next to vmmConfig.cmake, so apps can call it after find_package(vmm); it works
# in-tree too, because the template is found relative to this file, captured at include time.
include_guard(GLOBAL)

set(_VMM_CODESIGN_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(VMM_CODESIGN_IDENTITY "-" CACHE STRING
  "Identity vmm_codesign() signs with; '-' signs ad hoc")

# vmm_write_entitlements(<output> [NETWORKING]): the plist vmm_codesign() uses by default.
function(vmm_write_entitlements output)
  cmake_parse_arguments(PARSE_ARGV 1 _vmm "NETWORKING" "" "")
  if(_vmm_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vmm_write_entitlements: unexpected arguments: ${_vmm_UNPARSED_ARGUMENTS}")
  endif()
  set(VMM_EXTRA_ENTITLEMENTS "")
  if(_vmm_NETWORKING)
    string(APPEND VMM_EXTRA_ENTITLEMENTS "\t<key>com.apple.vm.networking</key>\n\t<true/>\n")
  endif()
  configure_file("${_VMM_CODESIGN_MODULE_DIR}/vmm.entitlements.in" "${output}" @ONLY)
endfunction()

function(vmm_codesign target)
  cmake_parse_arguments(PARSE_ARGV 1 _vmm "NETWORKING" "ENTITLEMENTS" "")
  if(_vmm_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vmm_codesign(${target}): unexpected arguments: ${_vmm_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "vmm_codesign: ${target} is not a target")
  endif()
  if(_vmm_ENTITLEMENTS AND _vmm_NETWORKING)
    # A caller's own plist is used as given: NETWORKING would be silently ignored.
    message(FATAL_ERROR "vmm_codesign(${target}): give ENTITLEMENTS or NETWORKING, not both "
      "(add com.apple.vm.networking to your own plist)")
  endif()
  if(NOT APPLE)
    message(STATUS "vmm_codesign(${target}): not an Apple platform, nothing to sign")
    return()
  endif()

  find_program(VMM_CODESIGN_EXECUTABLE codesign REQUIRED)
  if(_vmm_ENTITLEMENTS)
    get_filename_component(_plist "${_vmm_ENTITLEMENTS}" ABSOLUTE
      BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  else()
    set(_plist "${CMAKE_CURRENT_BINARY_DIR}/${target}.entitlements")
    if(_vmm_NETWORKING)
      vmm_write_entitlements("${_plist}" NETWORKING)
    else()
      vmm_write_entitlements("${_plist}")
    endif()
  endif()
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${VMM_CODESIGN_EXECUTABLE}" --force --sign "${VMM_CODESIGN_IDENTITY}"
      --entitlements "${_plist}" "$<TARGET_FILE:${target}>"
    COMMENT "Signing ${target} for Virtualization.framework (${_plist})"
    VERBATIM)
endfunction()
