# Warnings for the project's native code: host code through -Xcompiler, device code as errors
# for the classic mistakes nvcc can see.
function(gpucore_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --Werror=cross-execution-space-call>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
endfunction()
