/* The small program every benchmark starts: a dynamically linked C program that exits 0, like a
   student's program minus its work. */
int main(void) { return 0; }
