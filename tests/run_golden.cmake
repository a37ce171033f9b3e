# Runs one golden CLI case: cmake -DKINDLINT=bin -DCASE=dir -DOUT=dir -P run_golden.cmake
#
# A case directory holds:
#   args             the arguments, one per line (relative paths are from the case dir)
#   stdin            optional: fed to standard input
#   expected.stdout  what standard output must be, byte for byte
#   expected.stderr  optional: what standard error must be (else it is not compared)
#   expected.rc      the exit status
# Every expected file is written and checked by hand. The run uses NO_COLOR=1
# and LC_ALL=C.UTF-8 so output does not depend on the terminal.
set(ENV{NO_COLOR} 1)
set(ENV{LC_ALL} C.UTF-8)
file(STRINGS ${CASE}/args args ENCODING UTF-8)
set(stdin_args)
if(EXISTS ${CASE}/stdin)
  set(stdin_args INPUT_FILE ${CASE}/stdin)
endif()
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${KINDLINT} ${args}
  WORKING_DIRECTORY ${CASE}
  ${stdin_args}
  OUTPUT_FILE ${OUT}/actual.stdout
  ERROR_FILE ${OUT}/actual.stderr
  RESULT_VARIABLE rc)
file(WRITE ${OUT}/actual.rc "${rc}\n")

set(failed FALSE)
foreach(stream stdout stderr rc)
  if(EXISTS ${CASE}/expected.${stream})
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
                    ${CASE}/expected.${stream} ${OUT}/actual.${stream}
                    RESULT_VARIABLE differ)
    if(differ)
      set(failed TRUE)
      message("--- ${stream} differs: expected ${CASE}/expected.${stream}, got ${OUT}/actual.${stream}")
      execute_process(COMMAND diff -u ${CASE}/expected.${stream} ${OUT}/actual.${stream})
    endif()
  elseif(NOT stream STREQUAL "stderr")
    set(failed TRUE)
    message("--- missing ${CASE}/expected.${stream}")
  endif()
endforeach()
if(failed)
  message(FATAL_ERROR "golden case ${CASE} failed")
endif()
