// What a Databricks notebook has and local Spark has not: `display` (here it prints the table).
def display(df: org.apache.spark.sql.Dataset[_]): Unit = df.show(20, false)
