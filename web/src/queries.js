import { gql } from '@apollo/client';

export const USER_FIELDS = gql`
  fragment UserFields on User {
    id
    username
    displayName
    avatarUrl
  }
`;

export const REACTION_FIELDS = gql`
  fragment ReactionFields on ReactionGroup {
    emoji
    count
    reactedByMe
  }
`;

export const ATTACHMENT_FIELDS = gql`
  fragment AttachmentFields on Attachment {
    id
    url
    contentType
    size
    width
    height
    thumbnailUrl
  }
`;

export const POST_FIELDS = gql`
  fragment PostFields on Post {
    id
    channelId
    body
    createdAt
    editedAt
    commentCount
    author {
      ...UserFields
    }
    reactions {
      ...ReactionFields
    }
    attachments {
      ...AttachmentFields
    }
  }
  ${USER_FIELDS}
  ${REACTION_FIELDS}
  ${ATTACHMENT_FIELDS}
`;

export const COMMENT_FIELDS = gql`
  fragment CommentFields on Comment {
    id
    body
    createdAt
    editedAt
    replyCount
    author {
      ...UserFields
    }
    reactions {
      ...ReactionFields
    }
  }
  ${USER_FIELDS}
  ${REACTION_FIELDS}
`;

export const REPLY_FIELDS = gql`
  fragment ReplyFields on Reply {
    id
    body
    createdAt
    editedAt
    author {
      ...UserFields
    }
    reactions {
      ...ReactionFields
    }
  }
  ${USER_FIELDS}
  ${REACTION_FIELDS}
`;

export const DM_FIELDS = gql`
  fragment DMFields on DirectMessage {
    id
    body
    createdAt
    editedAt
    from {
      ...UserFields
    }
    to {
      ...UserFields
    }
    reactions {
      ...ReactionFields
    }
    attachments {
      ...AttachmentFields
    }
  }
  ${USER_FIELDS}
  ${REACTION_FIELDS}
  ${ATTACHMENT_FIELDS}
`;

export const CHANNEL_POSTS = gql`
  query ChannelPosts($channelId: ID!, $first: Int, $after: String) {
    channelPosts(channelId: $channelId, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...PostFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${POST_FIELDS}
`;

export const POST = gql`
  query Post($id: ID!) {
    post(id: $id) {
      ...PostFields
    }
  }
  ${POST_FIELDS}
`;

export const POST_COMMENTS = gql`
  query PostComments($id: ID!, $first: Int, $after: String) {
    post(id: $id) {
      id
      commentCount
      comments(first: $first, after: $after) {
        edges {
          cursor
          node {
            ...CommentFields
            replies(first: 20) {
              edges {
                cursor
                node {
                  ...ReplyFields
                }
              }
              pageInfo {
                hasNextPage
                endCursor
              }
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
  ${COMMENT_FIELDS}
  ${REPLY_FIELDS}
`;

export const COMMENT = gql`
  query Comment($id: ID!) {
    comment(id: $id) {
      ...CommentFields
      post {
        id
        commentCount
      }
    }
  }
  ${COMMENT_FIELDS}
`;

export const REPLY = gql`
  query Reply($id: ID!) {
    reply(id: $id) {
      ...ReplyFields
      comment {
        id
        replyCount
      }
    }
  }
  ${REPLY_FIELDS}
`;

export const DIRECT_MESSAGES = gql`
  query DirectMessages($withUserId: ID!, $first: Int, $after: String) {
    directMessages(withUserId: $withUserId, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...DMFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${DM_FIELDS}
`;

export const DIRECT_MESSAGE = gql`
  query DirectMessage($id: ID!) {
    directMessage(id: $id) {
      ...DMFields
    }
  }
  ${DM_FIELDS}
`;

export const SEARCH = gql`
  query Search($query: String!, $first: Int, $after: String) {
    search(query: $query, first: $first, after: $after) {
      edges {
        cursor
        node {
          ...PostFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
  ${POST_FIELDS}
`;

export const CREATE_POST = gql`
  mutation CreatePost($channelId: ID!, $body: String!, $attachmentIds: [ID!]) {
    createPost(channelId: $channelId, body: $body, attachmentIds: $attachmentIds) {
      ...PostFields
    }
  }
  ${POST_FIELDS}
`;

export const CREATE_COMMENT = gql`
  mutation CreateComment($postId: ID!, $body: String!) {
    createComment(postId: $postId, body: $body) {
      ...CommentFields
      post {
        id
        commentCount
      }
    }
  }
  ${COMMENT_FIELDS}
`;

export const CREATE_REPLY = gql`
  mutation CreateReply($commentId: ID!, $body: String!) {
    createReply(commentId: $commentId, body: $body) {
      ...ReplyFields
      comment {
        id
        replyCount
      }
    }
  }
  ${REPLY_FIELDS}
`;

export const SEND_DM = gql`
  mutation SendDM($toUserId: ID!, $body: String!, $attachmentIds: [ID!]) {
    sendDirectMessage(toUserId: $toUserId, body: $body, attachmentIds: $attachmentIds) {
      ...DMFields
    }
  }
  ${DM_FIELDS}
`;

export const DELETE_POST = gql`
  mutation DeletePost($id: ID!) {
    deletePost(id: $id)
  }
`;

// ---- issue 17: reactions, edits and deletes, attachments --------------------------------
export const ADD_REACTION = gql`
  mutation AddReaction($targetId: ID!, $emoji: String!) {
    addReaction(targetId: $targetId, emoji: $emoji) {
      ...ReactionFields
    }
  }
  ${REACTION_FIELDS}
`;

export const REMOVE_REACTION = gql`
  mutation RemoveReaction($targetId: ID!, $emoji: String!) {
    removeReaction(targetId: $targetId, emoji: $emoji) {
      ...ReactionFields
    }
  }
  ${REACTION_FIELDS}
`;

/** The reactions of one target, by its type (a frame names only its id). */
export const REACTIONS_OF = {
  Post: gql`query PostReactions($id: ID!) { post(id: $id) { id reactions { ...ReactionFields } } } ${REACTION_FIELDS}`,
  Comment: gql`query CommentReactions($id: ID!) { comment(id: $id) { id reactions { ...ReactionFields } } } ${REACTION_FIELDS}`,
  Reply: gql`query ReplyReactions($id: ID!) { reply(id: $id) { id reactions { ...ReactionFields } } } ${REACTION_FIELDS}`,
  DirectMessage: gql`query DMReactions($id: ID!) { directMessage(id: $id) { id reactions { ...ReactionFields } } } ${REACTION_FIELDS}`,
};

export const EDIT_COMMENT = gql`
  mutation EditComment($id: ID!, $body: String!) {
    editComment(id: $id, body: $body) { id body editedAt }
  }
`;
export const DELETE_COMMENT = gql`
  mutation DeleteComment($id: ID!) {
    deleteComment(id: $id)
  }
`;
export const EDIT_REPLY = gql`
  mutation EditReply($id: ID!, $body: String!) {
    editReply(id: $id, body: $body) { id body editedAt }
  }
`;
export const DELETE_REPLY = gql`
  mutation DeleteReply($id: ID!) {
    deleteReply(id: $id)
  }
`;
export const EDIT_DM = gql`
  mutation EditDM($id: ID!, $body: String!) {
    editDirectMessage(id: $id, body: $body) { id body editedAt }
  }
`;
export const DELETE_DM = gql`
  mutation DeleteDM($id: ID!) {
    deleteDirectMessage(id: $id)
  }
`;
