/*
 * lib/gql/agora_schema.c — the schema of CONTRACT §3, declared as a table.
 * User, Post, Comment, Reply and DirectMessage values are JSON objects built
 * by resolve_common.c; their plain fields are read by the engine's default
 * resolver and only the fields that load something have resolvers here.
 */
#include "gql/gql.h"

static void
connection(ag_graphql_schema_t *s, const char *node, const char *what)
{
    char conn[64], edge[64], list[80], desc[160];
    snprintf(conn, sizeof(conn), "%sConnection", node);
    snprintf(edge, sizeof(edge), "%sEdge", node);
    snprintf(desc, sizeof(desc), "A page of %s (cursor pagination).", what);
    ag_graphql_type_t *e = ag_graphql_object(s, edge, "One item of a connection and its cursor.");
    ag_graphql_field(e, "cursor", "String!", "Pass as `after` to continue after this item.", NULL,
                     NULL);
    snprintf(list, sizeof(list), "%s!", node);
    ag_graphql_field(e, "node", list, "The item.", NULL, NULL);
    ag_graphql_type_t *c = ag_graphql_object(s, conn, desc);
    snprintf(list, sizeof(list), "[%s!]!", edge);
    ag_graphql_field(c, "edges", list, "The items of this page, in order.", NULL, NULL);
    ag_graphql_field(c, "pageInfo", "PageInfo!", "Where this page ends.", NULL, NULL);
}

static void
page_args(ag_graphql_field_t *f)
{
    ag_graphql_arg(f, "first", "Int", "20", "How many items (at most 100).");
    ag_graphql_arg(f, "after", "String", NULL, "The endCursor of the previous page.");
}

static void
declare_types(ag_graphql_schema_t *s)
{
    ag_graphql_scalar(s, "DateTime", "An RFC 3339 timestamp in UTC, e.g. 2026-11-24T10:00:00.000Z.",
                      "https://datatracker.ietf.org/doc/html/rfc3339");

    ag_graphql_type_t *u = ag_graphql_object(
        s, "User",
        "A person on Agora. The author of content whose account was deleted reads as "
        "the placeholder {id: \"0\", username: \"deleted\", displayName: \"Deleted user\"}.");
    ag_graphql_field(u, "id", "ID!", "Decimal id, as in the REST API.", NULL, NULL);
    ag_graphql_field(u, "username", "String!", "Unique handle, [a-z0-9_]{3,32}.", NULL, NULL);
    ag_graphql_field(u, "displayName", "String", "Name shown to others.", NULL, NULL);
    ag_graphql_field(u, "avatarUrl", "String",
                     "Their picture (PUT /api/v1/users/me/avatar), or null.", NULL, NULL);

    ag_graphql_type_t *rg = ag_graphql_object(
        s, "ReactionGroup",
        "One emoji on a post, comment, reply or DM: how many chose it and whether you did.");
    ag_graphql_field(rg, "emoji", "String!", "One emoji (a short grapheme cluster).", NULL, NULL);
    ag_graphql_field(rg, "count", "Int!", "How many users chose it.", NULL, NULL);
    ag_graphql_field(rg, "reactedByMe", "Boolean!", "Whether you are one of them.", NULL, NULL);

    ag_graphql_type_t *at = ag_graphql_object(
        s, "Attachment",
        "A file attached to a post or DM (uploaded with POST /api/v1/uploads or tus). Its url "
        "answers only those who may read the message (Bearer token or the agora_token cookie).");
    ag_graphql_field(at, "id", "ID!", "24-hex ObjectId.", NULL, NULL);
    ag_graphql_field(at, "url", "String!", "The file, served by Apache.", NULL, NULL);
    ag_graphql_field(at, "contentType", "String!", "Its type, sniffed from its bytes.", NULL, NULL);
    ag_graphql_field(at, "size", "Int!",
                     "Bytes (of the stored file: images are re-encoded "
                     "without metadata).",
                     NULL, NULL);
    ag_graphql_field(at, "width", "Int", "Pixels, for images.", NULL, NULL);
    ag_graphql_field(at, "height", "Int", "Pixels, for images.", NULL, NULL);
    ag_graphql_field(at, "thumbnailUrl", "String", "A small WebP version, for images.", NULL, NULL);

    ag_graphql_type_t *p = ag_graphql_object(s, "Post", "A message in a channel.");
    ag_graphql_field(p, "id", "ID!", "24-hex ObjectId.", NULL, NULL);
    ag_graphql_field(p, "channelId", "ID!", "The channel it was posted in.", NULL, NULL);
    ag_graphql_set_prepare(
        ag_graphql_field(p, "author", "User!", "Who wrote it.", gql_f_author, "authorId"),
        gql_f_author_prepare);
    ag_graphql_field(p, "body", "String!", "The text.", NULL, NULL);
    ag_graphql_field(p, "createdAt", "DateTime!", "When it was posted.", NULL, NULL);
    ag_graphql_field(p, "editedAt", "DateTime", "When it was last edited, if ever.", NULL, NULL);
    ag_graphql_field(p, "commentCount", "Int!", "How many comments it has.", NULL, NULL);
    ag_graphql_set_prepare(ag_graphql_field(p, "reactions", "[ReactionGroup!]!",
                                            "Its emojis, oldest first.", gql_f_reactions, NULL),
                           gql_f_reactions_prepare);
    ag_graphql_set_prepare(ag_graphql_field(p, "attachments", "[Attachment!]!",
                                            "Its files, in upload order.", gql_f_attachments, NULL),
                           gql_f_attachments_prepare);
    page_args(ag_graphql_field(p, "comments", "CommentConnection!", "Its comments, oldest first.",
                               gql_f_post_comments, NULL));

    ag_graphql_type_t *c = ag_graphql_object(s, "Comment", "A comment on a post.");
    ag_graphql_field(c, "id", "ID!", "24-hex ObjectId.", NULL, NULL);
    ag_graphql_field(c, "post", "Post!", "The post it comments on.", gql_f_comment_post, NULL);
    ag_graphql_set_prepare(
        ag_graphql_field(c, "author", "User!", "Who wrote it.", gql_f_author, "authorId"),
        gql_f_author_prepare);
    ag_graphql_field(c, "body", "String!", "The text.", NULL, NULL);
    ag_graphql_field(c, "createdAt", "DateTime!", "When it was written.", NULL, NULL);
    ag_graphql_field(c, "replyCount", "Int!", "How many replies it has.", NULL, NULL);
    ag_graphql_field(c, "editedAt", "DateTime", "When it was last edited, if ever.", NULL, NULL);
    ag_graphql_set_prepare(ag_graphql_field(c, "reactions", "[ReactionGroup!]!",
                                            "Its emojis, oldest first.", gql_f_reactions, NULL),
                           gql_f_reactions_prepare);
    page_args(ag_graphql_field(c, "replies", "ReplyConnection!", "Its replies, oldest first.",
                               gql_f_comment_replies, NULL));

    ag_graphql_type_t *r = ag_graphql_object(s, "Reply", "A reply to a comment.");
    ag_graphql_field(r, "id", "ID!", "24-hex ObjectId.", NULL, NULL);
    ag_graphql_field(r, "comment", "Comment!", "The comment it answers.", gql_f_reply_comment,
                     NULL);
    ag_graphql_set_prepare(
        ag_graphql_field(r, "author", "User!", "Who wrote it.", gql_f_author, "authorId"),
        gql_f_author_prepare);
    ag_graphql_field(r, "body", "String!", "The text.", NULL, NULL);
    ag_graphql_field(r, "createdAt", "DateTime!", "When it was written.", NULL, NULL);
    ag_graphql_field(r, "editedAt", "DateTime", "When it was last edited, if ever.", NULL, NULL);
    ag_graphql_set_prepare(ag_graphql_field(r, "reactions", "[ReactionGroup!]!",
                                            "Its emojis, oldest first.", gql_f_reactions, NULL),
                           gql_f_reactions_prepare);

    ag_graphql_type_t *d =
        ag_graphql_object(s, "DirectMessage", "A private message between two users.");
    ag_graphql_field(d, "id", "ID!", "24-hex ObjectId.", NULL, NULL);
    ag_graphql_set_prepare(
        ag_graphql_field(d, "from", "User!", "The sender.", gql_f_author, "fromId"),
        gql_f_author_prepare);
    ag_graphql_set_prepare(
        ag_graphql_field(d, "to", "User!", "The recipient.", gql_f_author, "toId"),
        gql_f_author_prepare);
    ag_graphql_field(d, "body", "String!", "The text.", NULL, NULL);
    ag_graphql_field(d, "createdAt", "DateTime!", "When it was sent.", NULL, NULL);
    ag_graphql_field(d, "editedAt", "DateTime", "When it was last edited, if ever.", NULL, NULL);
    ag_graphql_set_prepare(ag_graphql_field(d, "reactions", "[ReactionGroup!]!",
                                            "Its emojis, oldest first.", gql_f_reactions, NULL),
                           gql_f_reactions_prepare);
    ag_graphql_set_prepare(ag_graphql_field(d, "attachments", "[Attachment!]!",
                                            "Its files, in upload order.", gql_f_attachments, NULL),
                           gql_f_attachments_prepare);

    ag_graphql_type_t *by = ag_graphql_input(s, "UserBy", "How to find a user: give exactly one.");
    ag_graphql_one_of(by);
    ag_graphql_input_field(by, "id", "ID", NULL, "Decimal id.");
    ag_graphql_input_field(by, "username", "String", NULL, "Username.");

    ag_graphql_type_t *pi = ag_graphql_object(s, "PageInfo", "Where a page of a connection ends.");
    ag_graphql_field(pi, "hasNextPage", "Boolean!", "Whether more items follow.", NULL, NULL);
    ag_graphql_field(pi, "endCursor", "String", "Cursor of the last item, null when empty.", NULL,
                     NULL);

    connection(s, "Post", "posts");
    connection(s, "Comment", "comments");
    connection(s, "Reply", "replies");
    connection(s, "DirectMessage", "direct messages");
}

/* CONTRACT §9: reactions, and edits and deletes of comments, replies and DMs */
static void
declare_social_mutations(ag_graphql_type_t *m)
{
    static const char emoji_rule[] =
        "One emoji: a pictograph (with its variation selector, skin tone, ZWJ sequence or tags), "
        "a flag or a keycap; text is refused (bad_request).";
    ag_graphql_field_t *f;
    f = ag_graphql_field(m, "addReaction", "[ReactionGroup!]!",
                         "React to a post, comment or reply of a channel you are a member of, or "
                         "to a DM of yours. Adding twice changes nothing. A target holds at most "
                         "reaction_emojis_max (20) different emojis. Returns its reactions.",
                         gql_m_add_reaction, NULL);
    ag_graphql_arg(f, "targetId", "ID!", NULL, "A post, comment, reply or DM id.");
    ag_graphql_arg(f, "emoji", "String!", NULL, emoji_rule);
    f = ag_graphql_field(m, "removeReaction", "[ReactionGroup!]!",
                         "Take your emoji back (nothing to take: no change). Returns the "
                         "target's reactions.",
                         gql_m_remove_reaction, NULL);
    ag_graphql_arg(f, "targetId", "ID!", NULL, "A post, comment, reply or DM id.");
    ag_graphql_arg(f, "emoji", "String!", NULL, emoji_rule);
    f = ag_graphql_field(m, "editComment", "Comment!", "Change your own comment's text.",
                         gql_m_edit_comment, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Comment id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "deleteComment", "Boolean!",
                         "Delete a comment with its replies (its author, or the channel's owner "
                         "or an admin).",
                         gql_m_delete_comment, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Comment id.");
    f = ag_graphql_field(m, "editReply", "Reply!", "Change your own reply's text.",
                         gql_m_edit_reply, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Reply id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "deleteReply", "Boolean!",
                         "Delete a reply (its author, or the channel's owner or an admin).",
                         gql_m_delete_reply, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Reply id.");
    f = ag_graphql_field(m, "editDirectMessage", "DirectMessage!",
                         "Change the text of a DM you sent.", gql_m_edit_dm, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Message id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "deleteDirectMessage", "Boolean!", "Delete a DM you sent.",
                         gql_m_delete_dm, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Message id.");
}

static void
declare_roots(ag_graphql_schema_t *s)
{
    ag_graphql_field_t *f;
    ag_graphql_type_t  *q = ag_graphql_object(s, "Query", "What can be read.");
    ag_graphql_field(q, "me", "User", "The signed-in user; null without a token.", gql_q_me, NULL);
    f = ag_graphql_field(q, "user", "User", "A user by id.", gql_q_user, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "User id.");
    f = ag_graphql_field(q, "userBy", "User", "A user by id or by username.", gql_q_user_by, NULL);
    ag_graphql_arg(f, "by", "UserBy!", NULL, "Exactly one of id and username.");
    f = ag_graphql_field(q, "post", "Post", "A post by id (readable channels only).", gql_q_post,
                         NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Post id.");
    f = ag_graphql_field(q, "comment", "Comment", "A comment by id.", gql_q_comment, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Comment id.");
    f = ag_graphql_field(q, "reply", "Reply", "A reply by id.", gql_q_reply, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Reply id.");
    f = ag_graphql_field(q, "directMessage", "DirectMessage",
                         "A direct message you sent or received.", gql_q_dm, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Message id.");
    f = ag_graphql_field(q, "channelPosts", "PostConnection!",
                         "A channel's posts, newest first (a channel's messages).",
                         gql_q_channel_posts, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, "Channel id.");
    page_args(f);
    f = ag_graphql_field(q, "directMessages", "DirectMessageConnection!",
                         "Your conversation with one user, newest first.", gql_q_dms, NULL);
    ag_graphql_arg(f, "withUserId", "ID!", NULL, "The other user.");
    page_args(f);
    f = ag_graphql_field(q, "search", "PostConnection!",
                         "Posts matching the words of query in channels you may read, best first.",
                         gql_q_search, NULL);
    ag_graphql_arg(f, "query", "String!", NULL, "Words to look for.");
    page_args(f);

    ag_graphql_type_t *m = ag_graphql_object(s, "Mutation", "What can be changed.");
    f = ag_graphql_field(m, "createPost", "Post!", "Post in a channel you are a member of.",
                         gql_m_create_post, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, "Channel id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    ag_graphql_arg(f, "attachmentIds", "[ID!]", NULL,
                   "Your uploads to attach: at most attachments_per_message_max, 10.");
    f = ag_graphql_field(m, "editPost", "Post!", "Change your own post's text.", gql_m_edit_post,
                         NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Post id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "deletePost", "Boolean!",
                         "Delete a post (its author, or the channel's owner or an admin).",
                         gql_m_delete_post, NULL);
    ag_graphql_arg(f, "id", "ID!", NULL, "Post id.");
    f = ag_graphql_field(m, "createComment", "Comment!", "Comment on a post.", gql_m_create_comment,
                         NULL);
    ag_graphql_arg(f, "postId", "ID!", NULL, "Post id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "createReply", "Reply!", "Reply to a comment.", gql_m_create_reply,
                         NULL);
    ag_graphql_arg(f, "commentId", "ID!", NULL, "Comment id.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    f = ag_graphql_field(m, "sendDirectMessage", "DirectMessage!", "Send a private message.",
                         gql_m_send_dm, NULL);
    ag_graphql_arg(f, "toUserId", "ID!", NULL, "Recipient.");
    ag_graphql_arg(f, "body", "String!", NULL, "1 to 10000 characters.");
    ag_graphql_arg(f, "attachmentIds", "[ID!]", NULL, "Your uploads to attach.");
    declare_social_mutations(m);
}

/* CONTRACT §9: the channel's sequenced events over graphql-transport-ws (agora-wsd). */
static void
declare_subscription(ag_graphql_schema_t *s)
{
    ag_graphql_field_t *f;
    ag_graphql_type_t  *e = ag_graphql_object(
         s, "ChannelEvent",
         "One sequenced event of a channel, as the WebSocket's frames carry it (CONTRACT §4, §9): "
          "ids, never bodies, except post, which reads the post the event is about.");
    ag_graphql_field(e, "type", "String!",
                     "channel_message, message_updated, message_deleted, comment_created, "
                     "comment_updated, comment_deleted, reply_created, reply_updated, "
                     "reply_deleted, reaction; gap when events were lost (fromSeq..toSeq).",
                     NULL, NULL);
    ag_graphql_field(e, "seq", "Int!",
                     "The event's stream sequence: pass the last one seen as seq to resume.", NULL,
                     NULL);
    ag_graphql_field(e, "channelId", "ID!", "The channel.", NULL, NULL);
    ag_graphql_field(e, "messageId", "ID", "The post (channel_message, message_*).", NULL, NULL);
    ag_graphql_field(e, "postId", "ID", "The post a comment is on (comment_*).", NULL, NULL);
    ag_graphql_field(e, "commentId", "ID", "The comment (comment_*, reply_*).", NULL, NULL);
    ag_graphql_field(e, "replyId", "ID", "The reply (reply_*).", NULL, NULL);
    ag_graphql_field(e, "targetId", "ID", "What was reacted to (reaction).", NULL, NULL);
    ag_graphql_field(e, "emoji", "String", "The emoji (reaction).", NULL, NULL);
    ag_graphql_field(e, "op", "String", "added or removed (reaction).", NULL, NULL);
    ag_graphql_field(e, "userId", "ID", "Who reacted (reaction).", NULL, NULL);
    ag_graphql_field(e, "fromSeq", "Int", "The first lost sequence (gap).", NULL, NULL);
    ag_graphql_field(e, "toSeq", "Int", "The last lost sequence (gap).", NULL, NULL);
    ag_graphql_field(e, "post", "Post",
                     "The post the event is about (messageId, postId, or a reaction's targetId "
                     "when it names a post), read once per event; null when there is none or it "
                     "was deleted.",
                     gql_f_event_post, NULL);

    ag_graphql_type_t *sub = ag_graphql_object(
        s, "Subscription",
        "Served over WebSocket at /graphql (graphql-transport-ws), not over HTTP.");
    f = ag_graphql_field(sub, "channelEvents", "ChannelEvent!",
                         "The sequenced events of a channel you may read, from now, or from "
                         "after seq; ends with an error (forbidden) when you leave it.",
                         gql_s_channel_events, NULL);
    ag_graphql_arg(f, "channelId", "ID!", NULL, "Channel id.");
    ag_graphql_arg(f, "seq", "Int", NULL,
                   "Replay the events after this sequence first (at most ws_replay_max).");
}

ag_graphql_schema_t *
gql_schema_new(char *err, size_t errlen)
{
    ag_graphql_schema_t *s = ag_graphql_schema_new(
        "Agora: posts, comments, replies and direct messages. Users and channels are in the REST "
        "API (/api/v1); realtime events arrive over the WebSocket (/ws), or as the subscription "
        "channelEvents over graphql-transport-ws at /graphql.");
    if (s == NULL)
        return NULL;
    declare_types(s);
    declare_roots(s);
    declare_subscription(s);
    ag_graphql_schema_publish_cost(s); /* @cost/@listSize: what graphql_max_cost counts */
    if (ag_graphql_schema_finish(s, err, errlen) != AG_OK) {
        ag_graphql_schema_free(s);
        return NULL;
    }
    return s;
}
