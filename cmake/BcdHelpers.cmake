# Helpers shared by every target of the project.

# Strict warnings on our own code only; third-party headers come in as SYSTEM.
function(bcd_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wcast-align -Wunused)
  if(BCD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# bcd_add_test(NAME <name> SOURCES <files...> LIBS <targets...> LABELS <labels...>
#              [TIMEOUT <seconds>])
# Builds one GoogleTest executable and registers its tests with CTest.
# Labels: "unit" for fast tests, "e2e" for slow end-to-end ones, "data" for tests
# that read ../shared/data (skipped with a message when it is absent).
function(bcd_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE "${BCD_SOURCE_DIR}/tests")
  target_compile_definitions(${T_NAME} PRIVATE
    BCD_SOURCE_DIR="${BCD_SOURCE_DIR}"
    BCD_DATA_DIR="${BCD_DATA_DIR}"
    BCD_BINARY_DIR="${CMAKE_BINARY_DIR}")
  bcd_warnings(${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${T_NAME}
    WORKING_DIRECTORY "${BCD_SOURCE_DIR}"
    PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
