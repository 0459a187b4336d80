/* Keeps the test-support library non-empty. */
int ms_test_support_linked(void);
int ms_test_support_linked(void)
{
	return 1;
}
