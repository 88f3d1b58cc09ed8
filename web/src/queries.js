import { gql } from '@apollo/client';

export const USER_FIELDS = gql`
  fragment UserFields on User {
    id
    username
    displayName
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
  }
  ${USER_FIELDS}
`;

export const COMMENT_FIELDS = gql`
  fragment CommentFields on Comment {
    id
    body
    createdAt
    replyCount
    author {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const REPLY_FIELDS = gql`
  fragment ReplyFields on Reply {
    id
    body
    createdAt
    author {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const DM_FIELDS = gql`
  fragment DMFields on DirectMessage {
    id
    body
    createdAt
    from {
      ...UserFields
    }
    to {
      ...UserFields
    }
  }
  ${USER_FIELDS}
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
  mutation CreatePost($channelId: ID!, $body: String!) {
    createPost(channelId: $channelId, body: $body) {
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
  mutation SendDM($toUserId: ID!, $body: String!) {
    sendDirectMessage(toUserId: $toUserId, body: $body) {
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
