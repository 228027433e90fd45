/*
 * The empty process a restored task starts as. The engine clone3()s it at the task's PID, it stops
 * at exec under PTRACE_TRACEME, and the engine rebuilds the task from outside with injected syscalls.
 * It must never run on its own: if it is ever resumed, it just waits. No libc, no data, no stack use.
 */
void _start(void) __attribute__((noreturn, naked));

void _start(void)
{
	__asm__ volatile("1: mov $34, %eax\n\t" /* pause() */
			 "syscall\n\t"
			 "jmp 1b\n\t");
}
