#include "octohub/hub/cli.h"

int main(int argc, char** argv) { return octohub::hub::RunCli(argc, argv); }
