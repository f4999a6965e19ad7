/** The {@code gpucore} command line: devices, demo, doctor, topo and bench. */
module dev.gpucore.cli {
  requires dev.gpucore;
  requires dev.gpucore.cpu;
  requires info.picocli;

  // picocli reads and sets the commands' annotated fields
  opens dev.gpucore.cli to info.picocli;
  opens dev.gpucore.cli.bench to info.picocli;
}
