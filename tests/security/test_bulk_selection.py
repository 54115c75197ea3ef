"""Attacks on the Files page's bulk actions: the selection comes from the browser, the ZIP's names from uploaders."""

from __future__ import annotations

import io
import zipfile

import streamlit as st

from common import aws
from common.schema.keys import file_key
from portal.files import bulk, bulk_service
from portal.files.bulk import BulkAction
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import page_as
from tests.helpers.stored import current, upload
from tests.helpers.users import ANN, BOB


def test_row_numbers_forged_in_the_selection_select_nothing_more(stack):
    """Attack: the browser sends row numbers past the list (or negative) to reach files it was not shown."""
    st.cache_data.clear()
    upload(stack, ANN, "mine.pdf", tiny_pdf("mine"))
    upload(stack, BOB, "bobs.pdf", tiny_pdf("bob"))
    at = page_as(ANN, "files")
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 1, 7, -1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert any(b.label == "Delete (1)" for b in at.button), "only the one row shown is selected"
    assert any(m.value == "**1 selected**" for m in at.markdown)
    st.cache_data.clear()


def test_a_name_that_climbs_out_of_the_zip_is_kept_inside_it(stack):
    """Attack: an upload named to be written outside the folder the ZIP is unpacked into (zip slip)."""
    record = upload(stack, ANN, "x.pdf", tiny_pdf("slip"))
    aws.client("dynamodb").update_item(  # as if a name had been stored unchecked
        TableName=stack.table, Key=file_key(record.file_id), UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "../../.bashrc"}})
    made = bulk_service.zip_to_s3(user=ANN, s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack,
                                  plan=bulk.plan(BulkAction.DOWNLOAD, ANN, [current(stack, record.file_id)]))
    assert made.report.summary() == "1 file put in the ZIP."
    body = aws.client("s3").get_object(Bucket=stack.bucket, Key=made.key)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names == ["bashrc", "manifest.csv"]
