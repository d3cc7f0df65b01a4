"""Dossiers (hồ sơ): the pure domain layer, with no database, network or clock.

Everything here is a plain function of its arguments so that the ingest API, the lookup flow,
the statistics and the tests all share one definition of each rule:

- ``status``: the 10 national status codes synchronised to Cổng DVCQG, their citizen-facing
  labels and "what happens next", which of them end processing, and the statistics groups;
- ``codes``: the dossier code ``{agency ID}-{yyMMdd}-{NNNN}``, recognised in free text;
- ``workdays``: the working-day calendar (weekends, public holidays, make-up working days) and
  its YAML files, the bundled one in ``data/holidays.yaml`` plus any an operator adds;
- ``timeliness``: the on-time rules of Decision 766/QĐ-TTg and the on-time rate.

The rules and their sources are in ``shared/domain.md`` sections 2.3, 3 and 7.
"""
