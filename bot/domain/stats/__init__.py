"""Statistics for staff: the indexes (``indexes``), and their renderings as a phone-sized text
(``text``), a PNG chart (``chart``) and an Excel report (``report``), over a period parsed from
what staff type (``periods``)."""
