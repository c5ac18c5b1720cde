/* fixture.c - a tiny host program the CLI tests pack into an image (tests/cli). */
#include <stdio.h>

int duet_fixture_crash_here(int x);

int duet_fixture_crash_here(int x)
{
    return x * 3 + 1;
}

int main(void)
{
    printf("fixture %d\n", duet_fixture_crash_here(2));
    return 0;
}
