# tests/npy.cmake - build and register the .npy module test suite.
#
# Usage from the root CMakeLists.txt (after enable_testing()):
#     find_package(PkgConfig REQUIRED)
#     pkg_check_modules(CHECK REQUIRED check)
#     include(tests/npy.cmake)
#
# Paths are taken relative to this file (CMAKE_CURRENT_LIST_DIR), so it works
# no matter which directory includes it.

set(NPY_TEST_DIR "${CMAKE_CURRENT_LIST_DIR}")
get_filename_component(NPY_CLI_DIR "${CMAKE_CURRENT_LIST_DIR}/../cli" ABSOLUTE)

add_executable(suite_npy
    "${NPY_TEST_DIR}/suite_npy.c"
    "${NPY_CLI_DIR}/npy.c")
target_include_directories(suite_npy PRIVATE "${NPY_CLI_DIR}" ${CHECK_INCLUDE_DIRS})
target_compile_options(suite_npy PRIVATE ${CHECK_CFLAGS_OTHER})
target_compile_definitions(suite_npy PRIVATE
    NPY_FIXTURE_DIR="${NPY_TEST_DIR}/npy_fixtures")
target_link_directories(suite_npy PRIVATE ${CHECK_LIBRARY_DIRS})
target_link_libraries(suite_npy PRIVATE ${CHECK_LIBRARIES})
set_target_properties(suite_npy PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                                           C_EXTENSIONS OFF)

add_test(NAME npy COMMAND suite_npy WORKING_DIRECTORY "${NPY_TEST_DIR}")
set_tests_properties(npy PROPERTIES TIMEOUT 60)
