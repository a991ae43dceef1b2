"""Training: thin functions over TRL / PEFT per phase, and the offline PPO loop (paper Sec. 4)."""
