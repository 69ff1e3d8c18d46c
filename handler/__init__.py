"""StreamAggregator's Lambda handler: DynamoDB stream batches in, exact aggregates out.

Runs on the Lambda runtime with nothing but the standard library and boto3, so the deployment
package is this folder alone. The entry point is ``handler.main.lambda_handler``.

One record's path, module by module (the data passed along each step is in ``types``):

1. decode: ``records`` checks the event and views each record (``fastpath`` reads the common case
   in one pass, with the same rules);
2. contribution: ``contribution.record_effect`` finds what its old image takes away and its new
   image adds, per group (``spec``, ``grouping``, ``attributes`` say how);
3. fold: ``planner.plan_batch`` cuts it into one delta per aggregate key (``fold.record_deltas``),
   and the key's deltas are summed exactly (``fold.fold``);
4. write: ``inline_store`` or ``ledger_store`` (with ``transaction`` and ``packing``) sends each
   key's write through the one loop in ``write_loop``, min/max entries beside the ledger's in the
   extremes table (``extremes``); bad data goes to ``quarantine``;
5. report: ``processor`` merges the keys' outcomes into the Lambda's response and one summary line
   (``telemetry``), and returns them as a ``BatchResult``.

Readers, not the Lambda, use ``reading`` (each measure of an aggregate item, the average computed
on read) and ``extremes_query`` (a min or max, one Query).
"""
