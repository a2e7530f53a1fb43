// --no-build-cache, the same in run, batch and stress (GradeOptions::build_cache):
//
//   add_build_cache_option(sub, args->no_build_cache);
//   options.build_cache = !args.no_build_cache;
#pragma once

#include <CLI/CLI.hpp>

namespace ipcg {

inline void add_build_cache_option(CLI::App* sub, bool& no_build_cache) {
  sub->add_flag("--no-build-cache", no_build_cache,
                "build the reference every time instead of reusing its cached build (IPCG_CACHE_DIR, "
                "/var/cache/ipcgrade as root, else ~/.cache/ipcgrade)");
}

}  // namespace ipcg
