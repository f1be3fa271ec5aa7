/* The export's stream program on the board: `harlite_stream [OPTIONS] CSV`, the CSV a host file
 * opened through semihosting (qemu's working folder), read as the program reads stdin. */
#include <stdio.h>

int harlite_stream_main(int argc, char **argv);  /* harlite_stream.c, main renamed */

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: harlite_stream [OPTIONS] CSV (qemu ... -append '[OPTIONS] CSV')\n");
        return 2;
    }
    if (freopen(argv[argc - 1], "r", stdin) == NULL) {
        fprintf(stderr, "%s: cannot open it (through semihosting)\n", argv[argc - 1]);
        return 2;
    }
    return harlite_stream_main(argc - 1, argv);
}
