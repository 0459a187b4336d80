/* Keeps the agent library non-empty while it is being written. */
int ms_agent_linked(void);
int ms_agent_linked(void) { return 1; }
