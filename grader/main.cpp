// grader: the command line. Everything it does is a library call (cli.hpp); this only guards
// against the unexpected, which is an internal error (exit 3), never a crash.
#include <csignal>
#include <exception>
#include <iostream>

#include "cli.hpp"
#include "stop_signals.hpp"

int main(int argc, char** argv) {
  // A student process closing its end of a pipe must not kill the grader.
  std::signal(SIGPIPE, SIG_IGN);
  ipcg::install_stop_signal_cleanup();
  try {
    return ipcg::run_cli(std::vector<std::string>(argv, argv + argc), std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "grader: internal error: " << e.what() << "\n";
    return ipcg::kExitInternal;
  }
}
