"""The generated repository's contract, shared by the stages that write and read it."""
