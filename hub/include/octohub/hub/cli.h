// The octohub program: parses the command line and runs a verb.
#pragma once

namespace octohub::hub {

// Returns the process exit code: 0 success, 1 failure, 2 usage error.
int RunCli(int argc, char** argv);

}  // namespace octohub::hub
