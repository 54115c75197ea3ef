"""Attack on Streamlit's process-wide cache: one user's cached reads served to another.

``st.cache_data`` is shared by every session of the portal process. A read
cached under the table and filters alone would hand the next user, whoever
they are, the previous user's files and figures for as long as it is cached.
Here two uploaders open the same pages, one after the other, in one process.
"""

from __future__ import annotations

import io

from common import aws
from portal.files.uploads import store_upload
from tests.helpers.files import tiny_pdf
from tests.helpers.pages import page_as
from tests.helpers.users import ANN, BOB


def listed(name: str, user) -> list[str]:
    at = page_as(user, name)
    assert not at.exception, at.exception
    tables = [*at.table, *at.dataframe]
    return [str(v).replace("\\", "") for t in tables for v in t.value.to_numpy().ravel()]


def test_the_next_user_never_gets_the_previous_users_cached_file_list(stack):
    store_upload(user=ANN, name="ann-salaries.pdf", body=io.BytesIO(tiny_pdf()), content_type="",
                 s3=aws.client("s3"), ddb=aws.client("dynamodb"), settings=stack)
    assert "ann-salaries.pdf" in listed("files", ANN)  # now cached for Ann's view
    assert "ann-salaries.pdf" not in listed("files", BOB)
