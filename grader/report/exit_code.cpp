#include "report/exit_code.hpp"

namespace ipcg {

int exit_code_for(const LabResult& result) { return result.all_passed() ? 0 : 1; }

}  // namespace ipcg
