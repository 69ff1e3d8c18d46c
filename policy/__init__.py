"""CrossGuard policy pack for stacks that use StreamAggregator (run: pulumi preview --policy-pack policy)."""
