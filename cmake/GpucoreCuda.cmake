# Locates the CUDA compiler before project() enables the language, and stops with a message
# that says what to install when there is none. Sets the default GPU architectures:
# sm_80 and sm_90 machine code, plus compute_90 PTX that newer GPUs compile at load time.
include(CheckLanguage)
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(_gpucore_nvcc nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
  if(_gpucore_nvcc)
    set(CMAKE_CUDA_COMPILER "${_gpucore_nvcc}" CACHE FILEPATH "CUDA compiler")
  endif()
endif()
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR
    "gpucore: no CUDA compiler (nvcc) found. Install the CUDA 13 toolkit's compiler "
    "(package cuda-nvcc-13-0 or the full toolkit, giving /usr/local/cuda/bin/nvcc), "
    "or point CUDACXX / -DCMAKE_CUDA_COMPILER at nvcc.")
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "80-real;90" CACHE STRING "GPU architectures (90 = sm_90 + PTX)")
endif()
