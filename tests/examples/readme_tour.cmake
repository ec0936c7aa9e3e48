# The README's "A short tour" program, compiled from the README itself and run against the test
# guest, so that the tour a newcomer copies keeps compiling and working as written.
file(READ "${PROJECT_SOURCE_DIR}/README.md" _readme)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/README.md")
string(FIND "${_readme}" "## A short tour" _tour)
if(_tour EQUAL -1)
  message(FATAL_ERROR "README.md has no \"## A short tour\" section")
endif()
string(SUBSTRING "${_readme}" ${_tour} -1 _rest)
string(FIND "${_rest}" "```cpp\n" _open)
if(_open EQUAL -1)
  message(FATAL_ERROR "README.md's tour has no ```cpp block")
endif()
math(EXPR _code_start "${_open} + 7")
string(SUBSTRING "${_rest}" ${_code_start} -1 _rest)
string(FIND "${_rest}" "\n```" _close)
string(SUBSTRING "${_rest}" 0 ${_close} VMM_README_TOUR_CODE)
file(CONFIGURE OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/readme_tour.cpp"
  CONTENT "// Generated from README.md (A short tour) by tests/examples/readme_tour.cmake.\n@VMM_README_TOUR_CODE@\n"
  @ONLY)
add_executable(readme_tour "${CMAKE_CURRENT_BINARY_DIR}/readme_tour.cpp")
target_link_libraries(readme_tour PRIVATE vmm::vmm)
vmm_set_warnings(readme_tour)
add_test(NAME examples.readme_tour_runs_as_written
  COMMAND "${CMAKE_CURRENT_SOURCE_DIR}/../tests/examples/readme_tour_test.sh"
    "$<TARGET_FILE:readme_tour>" "${VMM_GUEST_DIR}")
set_tests_properties(examples.readme_tour_runs_as_written PROPERTIES
  TIMEOUT 300 RUN_SERIAL TRUE LABELS integration)
