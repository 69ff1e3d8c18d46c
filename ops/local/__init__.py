"""Everything that runs the system on the local emulator (moto): only `demo` and `emulator` import it,
so the operator's commands against AWS need boto3 and rich alone."""
