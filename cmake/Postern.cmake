# Helpers that keep every folder's CMakeLists.txt to a few lines.
#
#   postern_library(NAME SOURCES a.cc b.cc DEPS other_lib ...)
#     One static library per folder under src/; DEPS is the folder's allowed
#     dependency list (the layering in docs/architecture.md).
#   postern_test(NAME SOURCES a_test.cc DEPS lib ...)
#     A GoogleTest binary registered with CTest (label "unit").
#   postern_fuzz(NAME SOURCE fuzz.cc CORPUS dir DEPS lib ...)
#     A libFuzzer target when POSTERN_FUZZ is on; always a regression test
#     that replays every file of the seed corpus through the target.

# -Wno-mismatched-new-delete: g++ 12 false positive on Asio coroutine frames.
set(POSTERN_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
set(POSTERN_SANITIZER_FLAGS)
if(POSTERN_SANITIZE)
  set(POSTERN_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # clang-14 UBSan cannot compile coroutine frames with -fsanitize=function.
    list(APPEND POSTERN_SANITIZER_FLAGS -fno-sanitize=function)
  endif()
  add_compile_options(${POSTERN_SANITIZER_FLAGS})
  add_link_options(${POSTERN_SANITIZER_FLAGS})
endif()
if(POSTERN_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function)
  add_link_options(-fsanitize=address,undefined)
endif()

function(postern_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${POSTERN_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(postern_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${POSTERN_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
endfunction()

function(postern_fuzz name)
  cmake_parse_arguments(ARG "" "SOURCE;CORPUS" "DEPS" ${ARGN})
  # The regression runner: every corpus file through the target, under the
  # normal (or sanitizer) build.
  add_executable(${name}_regression ${ARG_SOURCE} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  target_compile_options(${name}_regression PRIVATE ${POSTERN_WARNINGS})
  target_link_libraries(${name}_regression PRIVATE ${ARG_DEPS})
  add_test(NAME ${name}_corpus COMMAND ${name}_regression ${ARG_CORPUS})
  set_tests_properties(${name}_corpus PROPERTIES LABELS fuzz TIMEOUT 300)
  if(POSTERN_FUZZ)
    add_executable(${name} ${ARG_SOURCE})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()
