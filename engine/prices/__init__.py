"""The company's price list (seed 399: 任何人员不得擅自对客户予以报价…所有销售价格均按公司制订价格并由销售部人员报出).

Master data, not a process: one row per product, specification and grade for a period of validity,
the price kept exactly in fen. Who may read or change it is decided in engine/runtime/access.py.

- `rows`: what one row may hold (the checks of an import line and of the page's form alike)
- `csvfile`: reading an import file, every line checked, errors by line number
- `book`: the table: listing, the price valid on a day, adding rows, ending a row's validity
- `chain`: every change is an event in the `prices` hash chain; `audit verify` also checks that the
  table is what the chain says it is
"""
