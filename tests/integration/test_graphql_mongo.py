"""GraphQL through Apache with the content on MongoDB (the wire peer): a second
agora.fcgi pool started here behind its own Apache virtual host (mongostack).
The reads that name the author of a deleted account, as on PostgreSQL
(test_accounts): every list and field reads a placeholder, never an error."""
import json

from agora_test import expect, psql, request
from mongostack import start_api_on_mongodb
from test_accounts import check_deleted_author_reads


def _gql_on(port):
    def gqlf(query, variables=None, token=None):
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        return request("POST", "/graphql", raw=json.dumps(body).encode(), headers=h, port=port)
    return gqlf


def test_deleted_author_reads_as_placeholder_everywhere_mongodb():
    gqlf = _gql_on(start_api_on_mongodb())
    w = check_deleted_author_reads(gqlf)
    # the content really is in MongoDB: PostgreSQL's posts table never saw it
    expect(psql(f"SELECT count(*) FROM posts WHERE id = '{w['gone_post']['id']}'") == "0",
           "the post lives in MongoDB, not in PostgreSQL")
