import { useCallback, useEffect, useLayoutEffect, useRef } from 'react';

/**
 * Chat-style scrolling for a list shown oldest at the top: stays at the
 * bottom when new items arrive (if it was there), loads older pages when the
 * top sentinel scrolls into view, and keeps the view still while they land.
 */
export function useInfiniteList({ scrollRef, sentinelRef, items, hasMore, loadMore, loading }) {
  const atBottom = useRef(true);
  const prevFirst = useRef(null);
  const prevHeight = useRef(0);
  const prevLen = useRef(0);

  const onScroll = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }, [scrollRef]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const first = items.length ? items[0].id : null;
    if (prevFirst.current && first !== prevFirst.current && items.length > prevLen.current && !atBottom.current) {
      // older items were prepended: keep what the reader sees where it was
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
    prevLen.current = items.length;
  }, [items, scrollRef]);

  useEffect(() => {
    const el = sentinelRef.current;
    const root = scrollRef.current;
    if (!el || !root || !hasMore) return undefined;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !loading) {
          atBottom.current = false;
          prevHeight.current = root.scrollHeight;
          loadMore();
        }
      },
      { root, rootMargin: '200px 0px 0px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [sentinelRef, scrollRef, hasMore, loadMore, loading, items.length]);

  return { onScroll };
}
